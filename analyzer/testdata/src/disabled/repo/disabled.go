package disabled
