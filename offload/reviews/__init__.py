"""Reviews after a project, and the ratings they make."""
