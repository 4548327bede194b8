"""The contact page: members and visitors write to the admins, an admin answers."""
