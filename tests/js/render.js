// Render LaTeX with KaTeX: reads a JSON array of display-math sources on stdin, writes a JSON
// array of {ok, error} (same order) on stdout. Used by tests/test_katex.py.
"use strict";
const katex = require("katex");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((src) => {
    try {
      const html = katex.renderToString(src, { throwOnError: true, displayMode: true });
      return { ok: html.length > 0, error: null };
    } catch (err) {
      return { ok: false, error: String(err && err.message || err) };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
