package configs

// Config is the whole vipd configuration. (Placeholder: the configs work fills it in.)
type Config struct{}
