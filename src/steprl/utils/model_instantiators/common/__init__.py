"""The backend-neutral part of the model instantiators: expression parsing and pre-1.3 keyword conversion."""
