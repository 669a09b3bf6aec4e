from services.console.throttle import AddressThrottle


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_an_address_is_blocked_after_its_limit_of_failures_until_the_window_passes():
    clock = Clock()
    throttle = AddressThrottle(limit=3, window=60, clock=clock)
    for _ in range(3):
        assert not throttle.blocked("198.51.100.7")
        throttle.failed("198.51.100.7")
    assert throttle.blocked("198.51.100.7") and not throttle.blocked("198.51.100.8")
    assert throttle.first_refusal("198.51.100.7") and not throttle.first_refusal("198.51.100.7")
    clock.now = 61
    assert not throttle.blocked("198.51.100.7")


def test_a_success_is_forgiven():
    throttle = AddressThrottle(limit=2, window=60, clock=Clock())
    throttle.failed("a")
    throttle.forgive("a")
    throttle.failed("a")
    assert not throttle.blocked("a")
