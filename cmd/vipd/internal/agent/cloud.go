package agent

import "errors"

// errBuiltWithout is returned when an instance asks for a cloud provider
// whose SDK this build leaves out (cloud_*_off.go).
var errBuiltWithout = errors.New("built without")
