"""Meaning: what written notation stands for, above the engine (`derive/`).

Scope and symbols, resolution of parse trees into ops, functions, Leibniz chains.
"""
