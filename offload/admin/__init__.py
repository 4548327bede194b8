"""The admin dashboard's numbers (the admin pages live with their features)."""
