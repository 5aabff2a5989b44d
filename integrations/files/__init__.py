"""The ``files`` source: CSV and JSON exports read through a hand-written mapping.

``mapping`` and ``specs`` are the config's shape and checks; ``readers`` and
``paths`` find rows in files; ``values`` reads text as typed values; ``convert``
turns a row into a record; ``source`` runs a whole mapping in the loader's order.
"""
