"""Small pure helpers with no business rules."""
