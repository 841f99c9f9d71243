"""Files copied into the sandbox: the worker loop and the wire codec.

They import nothing from ``autograder`` so they can run from a bare folder.
"""
