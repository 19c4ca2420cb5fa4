"""The X12 layer: knows X12, nothing about rheumatology (pure: no I/O beyond reading its input).

* ``reader``: streaming tokenizer, bytes in, positioned ``Segment`` values out, constant memory.
* ``writer``: typed values in, delimited text out; fixed-width ISA; SE01/GE01/IEA01 computed.
* ``envelope``: ISA/GS/ST structure, counts and control numbers checked as problems.
* ``tr3``: TR3 loop structure read from pyx12's maps; a walker naming each segment's loop.
"""
