"""The primitive ops: one small `Function` subclass per op, grouped by kind."""
