"""Environment wrappers: a common interface (skrl 1.x) over Gymnasium and other environment libraries."""
