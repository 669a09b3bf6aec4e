"""The console's routes, one module per area; each handler names its permission with @requires or @public."""
