"""The API's shapes (README, "Call the API"), as msgspec structs with their constraints: what a client
sends (`requests`) and everything the API answers (`responses`). No handler defines a shape of its own."""
