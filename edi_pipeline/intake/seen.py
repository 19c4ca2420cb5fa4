"""A compact table of string keys to integers, for state that grows with the number of records.

Intake must remember every encounter id it has seen in a file (duplicates) and, for CSV, the last
line of each encounter (grouping). A ``set``/``dict`` of strings costs about 100 bytes per id;
this table keeps only the 64-bit hash of each key (and, for a mapping, an integer) in ``array``s:
12 to 24 bytes per id as a set, 24 to 48 as a mapping, so a file of a million encounters needs
tens of MB less.

Only hashes are kept, so two different keys with the same 64-bit hash look alike. For CSV
grouping a collision is harmless (a group is merely held until the other id's last row). For the
duplicate check it would reject a record as a duplicate; the chance is about n²/2⁶⁵ (3 in 10⁸
for a million distinct ids in one file), and the record is quarantined, not lost.
"""

from __future__ import annotations

from array import array

_EMPTY = 0


def _key_hash(key: str) -> int:
    h = hash(key)
    return h if h != _EMPTY else 1


class HashTable:
    """Open-addressing table from a string key (by its hash) to a non-negative int."""

    __slots__ = ("_keys", "_mask", "_size", "_values")

    def __init__(self, capacity: int = 1024, *, values: bool = True) -> None:
        size = 8
        while size < capacity * 2:
            size *= 2
        self._keys = array("q", bytes(8 * size))
        # a set of keys (``add``/``in``) needs no values: half the memory
        self._values = array("q", bytes(8 * size)) if values else None
        self._mask = size - 1
        self._size = 0

    def _slot(self, h: int) -> int:
        keys, mask = self._keys, self._mask
        i = h & mask
        while True:
            k = keys[i]
            if k in (h, _EMPTY):
                return i
            i = (i + 1) & mask

    def __len__(self) -> int:
        return self._size

    def get(self, key: str) -> int | None:
        h = _key_hash(key)
        i = self._slot(h)
        if self._keys[i] != h:
            return None
        return self._values[i] if self._values is not None else 0

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def set(self, key: str, value: int) -> None:
        if self._values is None:
            raise TypeError("this table holds keys only")
        h = _key_hash(key)
        i = self._slot(h)
        self._values[i] = value
        if self._keys[i] != h:
            self._keys[i] = h
            self._size += 1
            if self._size * 3 > len(self._keys) * 2:
                self._grow()

    def add(self, key: str) -> bool:
        """Insert ``key`` (value 0); True when it was already there."""
        h = _key_hash(key)
        i = self._slot(h)
        if self._keys[i] == h:
            return True
        self._keys[i] = h
        self._size += 1
        if self._size * 3 > len(self._keys) * 2:
            self._grow()
        return False

    @property
    def nbytes(self) -> int:
        arrays = 1 if self._values is None else 2
        return self._keys.itemsize * len(self._keys) * arrays

    def _grow(self) -> None:
        old_keys, old_values = self._keys, self._values
        size = len(old_keys) * 2
        self._keys = array("q", bytes(8 * size))
        self._values = array("q", bytes(8 * size)) if old_values is not None else None
        self._mask = size - 1
        for n, k in enumerate(old_keys):
            if k != _EMPTY:
                i = self._slot(k)
                self._keys[i] = k
                if old_values is not None:
                    self._values[i] = old_values[n]  # type: ignore[index]
