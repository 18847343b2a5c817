// Report panel front end (placeholder until the report-panel work lands).
document.body.dataset.ready = 'true';
