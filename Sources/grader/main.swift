import GraderKit
print("grader")
