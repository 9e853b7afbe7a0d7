"""Team libraries: teams, their members and roles, invitations, and the access policy that
decides, for every element, image, voice, job and file, who may do what
(`elements.teams.policy`)."""
