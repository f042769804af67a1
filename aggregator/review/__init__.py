"""The editors' review page: a small server-rendered web app over the stories index (``aggregator review``)."""
