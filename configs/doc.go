// Package configs loads, defaults and validates vipd's configuration (YAML
// file and environment variables, through viper), and converts keepalived.conf.
// It is the only package that imports viper.
package configs
