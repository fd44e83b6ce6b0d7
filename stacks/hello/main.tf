# Two resources that need no provider download beyond Terraform itself:
# `terraform_data` is built in and only records values in the state.

variable "greeting" {
  type        = string
  description = "What the stack says."
  default     = "Hello"
}

variable "environment" {
  type        = string
  description = "A label for the environment this stack represents."
  default     = "dev"
}

resource "terraform_data" "greeting" {
  input = "${var.greeting}, ${var.environment}!"
}

# Changing `environment` replaces this resource: a good way to see an
# `auto-unless-destroy` plan wait for approval.
resource "terraform_data" "environment" {
  input            = { name = var.environment }
  triggers_replace = [var.environment]
}

output "message" {
  description = "The greeting, as applied."
  value       = terraform_data.greeting.output
}

output "environment" {
  value = terraform_data.environment.output.name
}
