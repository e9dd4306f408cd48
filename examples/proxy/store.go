package main

import "github.com/modkit/modkit/modnet/modproxy"

// The proxy serves from a modproxy.Store: its DiskStore by default, or
// any other implementation in this directory (an object store shared by
// several instances). The names stay here so that such an implementation
// can be written against them.
type (
	// Store is modproxy.Store.
	Store = modproxy.Store
	// ObjectInfo is modproxy.ObjectInfo.
	ObjectInfo = modproxy.ObjectInfo
)
