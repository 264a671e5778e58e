package main

func runFlood(t *caseTB, c *config) {}
