"""Fulfillment: products, orders and purchase history (the read side; workflows come later)."""
