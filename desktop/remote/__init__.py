"""Talking to engines on other machines (a ComfyUI server): plain Python, no Qt, no torch.

Every read has a timeout and a size cap, every answer is checked before it is used, and every error is
one sentence a person can act on (`ServerError`), with the token blanked out.
"""
