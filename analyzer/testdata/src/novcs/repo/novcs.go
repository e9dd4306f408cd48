package novcs
