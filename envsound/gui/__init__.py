"""The desktop client: classify clips on a model server and place them on the model's map."""
