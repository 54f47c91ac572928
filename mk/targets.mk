# Filled in by the test harness work.
