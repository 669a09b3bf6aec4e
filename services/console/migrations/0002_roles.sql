-- Four roles (services/runtime/permissions.py): analysts and admins sign in too.
ALTER TABLE agents DROP CONSTRAINT agents_role_check;
ALTER TABLE agents ADD CONSTRAINT agents_role_check CHECK (role IN ('agent', 'supervisor', 'analyst', 'admin'));
