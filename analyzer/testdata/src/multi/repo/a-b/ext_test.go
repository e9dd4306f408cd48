package ab_test
