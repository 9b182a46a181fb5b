"""The write path of the hub: every change to projects, columns and tickets goes through here."""
