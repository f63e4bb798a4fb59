"""Webhooks (Standard Webhooks): subscriptions, signed deliveries of the change events, the
worker that sends them with retries, and the guard that keeps targets off private networks."""
