"""Kibo's shopper authentication: the auth ticket (`tickets`) and the password login with its
two-factor step (`login`). The generator copies these modules only into packages whose spec has a
ticket refresh operation (and a login); the package's `auth.py` binds them to its models and
operations."""
