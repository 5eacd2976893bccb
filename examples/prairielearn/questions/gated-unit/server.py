"""A PrairieLearn question graded by symderiv (README "Deploying on PrairieLearn").

problem.md beside this file is the TA's problem: its `scoring:` front matter says which
adjoints are asked and what each is worth. The student writes the derivation in the file
editor of question.html (Markdown with $$...$$ math, as on paper); symderiv checks every
line and scores each target once, from the student's final answer for it.
"""
import symderiv.autograder.prairielearn as symderiv_pl


def grade(data):
    symderiv_pl.grade(data)  # the problem: problem.md in this question's folder
