package main

func runCloud(t *caseTB, c *config) {}
