"""Deploying symderiv where students submit: a Gradescope autograder bundle (`gradescope.py`)
and a PrairieLearn grading function for a question's `server.py` (`prairielearn.py`). Both
take the problem from the TA (never from a submission's front matter) and score with the
problem's `scoring:` policy, exactly as `check` and `grade` do."""
