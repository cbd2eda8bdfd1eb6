"""Pydantic models, split by purpose: request, response and domain."""
