"""The only home of torch, diffusers and transformers. No Qt."""
