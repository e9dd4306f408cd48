package noop
