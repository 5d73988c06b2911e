def test_health_page_renders_in_chromium(page, live_server):
    page.goto("/health/live")
    assert '"status": "ok"' in page.content() or '"status":"ok"' in page.content()
