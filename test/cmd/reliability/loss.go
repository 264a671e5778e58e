package main

func runLoss(t *caseTB, c *config) {}
