import factory
from django.utils import timezone

from hotlead.ops.models import DeadLetter, DeadLetterStatus


class DeadLetterFactory(factory.django.DjangoModelFactory):
    """A job that failed its last attempt; `func` is a real, importable job of the test suite."""

    class Meta:
        model = DeadLetter

    task_id = factory.Sequence(lambda n: f"job{n:08d}")
    func = "tests.ops.jobs.record_call"
    task_name = "record_call"
    args = factory.LazyFunction(lambda: ["from-dlq"])
    kwargs = factory.LazyFunction(dict)
    error = "Traceback (most recent call last):\n  ...\nRuntimeError: the peer did not answer"
    attempts = 5
    first_failed_at = factory.LazyFunction(timezone.now)
    last_failed_at = factory.LazyFunction(timezone.now)
    status = DeadLetterStatus.OPEN
