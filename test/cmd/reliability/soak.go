package main

func runSoak(t *caseTB, c *config) {}
