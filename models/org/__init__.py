"""The organisation: regions, grids, groups, people and their roles, and the administrators' API tokens."""
