"""What runs as the learner: the zygote, its jails, the lab hosts and their app runners.

Everything here runs in a process that holds, or may come to hold, learner code. The
trusted side starts the zygote as a program (``python -m course.sandboxed.zygote``) and
talks to it and to its jails only through ``course.protocol``; it never imports this
package, and ``tests/course/test_boundary.py`` holds it to that.
"""
