"""FIT files: the fast vectorised decoder, the fitparse reference reader and what both share.

``fast`` is the decoder the pipeline uses, split by job: ``walk`` (every data message
in file order; ``_fitwalk.c`` is its optional C loop), ``definitions``, ``messages``
(the few summary messages), ``record_columns`` (records in bulk) and ``assembly``;
``errors`` holds its exceptions.  ``reference`` reads with fitparse; ``common`` turns
either reader's messages into activities; ``profile`` is the slice of the FIT profile
the fast decoder needs.
"""
