"""Tests of the lifelong-learning protocol: tasks, strategies, replay memory, metrics, configuration."""
