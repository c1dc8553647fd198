"""FIT files: the fast vectorised decoder, the fitparse reference reader and what both share.

``fast`` is the decoder the pipeline uses; ``reference`` reads with fitparse; ``common``
turns either reader's messages into activities; ``profile`` is the slice of the FIT
profile the fast decoder needs; ``_fitwalk.c`` is the optional message walk in C.
"""
