"""Projects: the work after an award. This issue creates the record when an award is
accepted; the project page, timeline, milestones and settlement come with the
projects issue."""
