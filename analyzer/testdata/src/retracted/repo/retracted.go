package retracted
