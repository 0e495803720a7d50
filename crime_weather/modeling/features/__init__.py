"""What the model sees: calendar, weather normals, the recent level, and the transformer that builds the feature matrix from raw inputs."""
