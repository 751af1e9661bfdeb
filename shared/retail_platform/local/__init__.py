"""The local main job: an embedded S3 endpoint, sample or real data, every function, a report.

Not copied into function images (see .dockerignore): it is the developer's and the retailer's way to
run the whole platform on one machine.
"""
