"""What the model sees: the matrix's layout of vocabulary terms (tables/terms.py), weather normals, the recent level, and the transformer that builds the matrix from raw inputs."""
